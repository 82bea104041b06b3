import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type ApiWiring, WiringInvariantError } from '../../wiring/index.ts';
import type { ScoringEndpoint } from './inference.ts';
import type { PlatformLogging } from './logging.ts';
import { PlatformFunction } from './platform-function.ts';
import { RegionalWebAcl } from './web-acl.ts';

/** Props of {@link PredictionApi}. */
export interface PredictionApiProps {
  readonly platformName: string;
  readonly endpoint: ScoringEndpoint;
  /** The VPC and private subnets the function runs in. */
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Encrypted log groups for the function and the access log. */
  readonly logging: PlatformLogging;
  /** The API as the wiring decides it: stage, route, one key per client, request schema, the function. */
  readonly api: ApiWiring;
}

/**
 * The wiring's JSON schema as CDK's JsonSchema: CDK writes `schema` and `ref` out as `$schema` and
 * `$ref`, every other keyword as it is.
 */
export function cdkJsonSchema(schema: unknown): apigateway.JsonSchema {
  if (Array.isArray(schema)) return schema.map(cdkJsonSchema) as never;
  if (schema === null || typeof schema !== 'object') return schema as never;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key === '$schema' ? 'schema' : key === '$ref' ? 'ref' : key,
      cdkJsonSchema(value),
    ]),
  ) as apigateway.JsonSchema;
}

/** API Gateway's own error answers, rewritten into the platform's one error shape. */
const GATEWAY_ERRORS: ReadonlyArray<[apigateway.ResponseType, string | undefined, string, string]> = [
  // validationErrorString is not JSON-escaped (it quotes property names), so it cannot go in a template.
  [
    apigateway.ResponseType.BAD_REQUEST_BODY,
    '400',
    'invalid_request',
    'body does not match the PredictionRequest schema',
  ],
  [apigateway.ResponseType.API_CONFIGURATION_ERROR, '500', 'internal', 'internal error'],
  [apigateway.ResponseType.INVALID_API_KEY, '403', 'forbidden', 'a valid x-api-key header is required'],
  [apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, '404', 'not_found', 'no such route'],
  [
    apigateway.ResponseType.THROTTLED,
    '429',
    'too_many_requests',
    'request rate above the usage plan; retry later',
  ],
  [
    apigateway.ResponseType.QUOTA_EXCEEDED,
    '429',
    'too_many_requests',
    'daily quota of the usage plan exhausted',
  ],
  [
    apigateway.ResponseType.REQUEST_TOO_LARGE,
    '413',
    'payload_too_large',
    'body exceeds the API Gateway limit',
  ],
  [
    apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE,
    '415',
    'unsupported_media_type',
    'content type must be application/json',
  ],
  [
    apigateway.ResponseType.INTEGRATION_TIMEOUT,
    '504',
    'gateway_timeout',
    'the prediction did not finish in time',
  ],
  // Defaults keep API Gateway's own status (403, 404, …); only the body is rewritten.
  [apigateway.ResponseType.DEFAULT_4XX, undefined, 'invalid_request', 'request rejected by API Gateway'],
  [apigateway.ResponseType.DEFAULT_5XX, undefined, 'internal', 'internal error'],
];

/**
 * `POST /predict`: an API Gateway REST API (regional) with a JSON-schema request model and body
 * validator, one API key and usage plan per declared client (throttling and a daily quota), an AWS WAF
 * web ACL on the stage, JSON access logs and the execution log group (created here, encrypted, with
 * retention) and X-Ray, and a Lambda proxy integration to the `predict` function, which may invoke
 * only the given endpoint.
 *
 * @example
 * const api = new PredictionApi(stack, 'PredictionApi', { platformName: 'acme', endpoint: inference, logging });
 */
export class PredictionApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly function: PlatformFunction;
  /** API keys by client name. */
  readonly apiKeys: ReadonlyMap<string, apigateway.IApiKey>;
  /** Usage plans by client name. */
  readonly usagePlans: ReadonlyMap<string, apigateway.UsagePlan>;
  readonly webAcl: RegionalWebAcl;
  /** `API-Gateway-Execution-Logs_<restApiId>/v1`, the group API Gateway's execution logging writes to. */
  readonly executionLogGroup: logs.LogGroup;
  private readonly route: string;

  constructor(scope: Construct, id: string, props: PredictionApiProps) {
    super(scope, id);
    const { logging, api } = props;
    const fn = api.function;
    this.route = api.route.path;
    this.function = new PlatformFunction(this, 'Predict', {
      functionName: 'predict',
      description: `${props.platformName}: ${api.route.method} ${api.route.path} → SageMaker ${props.endpoint.endpointName}`,
      logGroup: logging.createLogGroup(this, 'FunctionLogs', 'functions/predict'),
      // The wiring's sources: the endpoint's name and the literal deadlines.
      environment: Object.fromEntries(
        Object.entries(fn.environment).map(([name, source]) => [
          name,
          source.kind === 'model-endpoint-name'
            ? props.endpoint.endpointName
            : source.kind === 'literal'
              ? source.value
              : (() => {
                  throw new WiringInvariantError(
                    this.node.path,
                    `${name}: ${source.kind} is no source of the prediction function`,
                  );
                })(),
        ]),
      ),
      // Above the model deadline, below API Gateway's 29 s integration timeout.
      timeout: Duration.seconds(fn.timeoutSeconds),
      vpc: props.vpc,
      subnets: props.subnets,
    });
    props.endpoint.grantInvoke(this.function.function);

    const accessLogs = logging.createLogGroup(this, 'AccessLogs', 'api/predict/access');
    const clients = api.keys;
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${props.platformName}-prediction`,
      description: `${props.platformName} prediction API`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // AWS::ApiGateway::Account is one setting per account and region: written only when declared,
      // so a second API in the account keeps its logging role.
      cloudWatchRole: api.createsAccountLoggingRole,
      deployOptions: {
        stageName: api.stage,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        // The stage's ceiling: all clients together; each client's plan limits it further.
        throttlingRateLimit: clients.reduce((sum, c) => sum + c.rateLimitPerSecond, 0),
        throttlingBurstLimit: clients.reduce((sum, c) => sum + c.burstLimit, 0),
      },
    });
    for (const [type, statusCode, code, message] of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(`Error${type.responseType}`, {
        type,
        ...(statusCode ? { statusCode } : {}),
        responseHeaders: { 'Content-Type': "'application/json'" },
        templates: { 'application/json': `{"error":{"code":"${code}","message":"${message}"}}` },
      });
    }

    const model = this.api.addModel('PredictionRequest', {
      contentType: 'application/json',
      modelName: 'PredictionRequest',
      schema: cdkJsonSchema(api.requestSchema),
    });
    const validator = this.api.addRequestValidator('BodyValidator', {
      requestValidatorName: 'body',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const method = this.api.root
      .addResource(api.route.path.slice(1))
      .addMethod(
        api.route.method,
        new apigateway.LambdaIntegration(this.function.function, { proxy: true }),
        {
          apiKeyRequired: api.keyRequired,
          requestModels: { 'application/json': model },
          requestValidator: validator,
        },
      );

    const apiKeys = new Map<string, apigateway.IApiKey>();
    const usagePlans = new Map<string, apigateway.UsagePlan>();
    for (const client of clients) {
      const key = this.api.addApiKey(`ApiKey-${client.name}`, {
        apiKeyName: `${props.platformName}-prediction-${client.name}`,
        description: `${props.platformName} prediction API: client ${client.name}`,
      });
      const plan = this.api.addUsagePlan(`UsagePlan-${client.name}`, {
        name: `${props.platformName}-prediction-${client.name}`,
        throttle: { rateLimit: client.rateLimitPerSecond, burstLimit: client.burstLimit },
        quota: { limit: client.dailyQuota, period: apigateway.Period.DAY },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      plan.addApiKey(key);
      apiKeys.set(client.name, key);
      usagePlans.set(client.name, plan);
    }
    this.apiKeys = apiKeys;
    this.usagePlans = usagePlans;

    // API Gateway creates its execution log group on first write, without retention or encryption;
    // created here first, under the name it uses, it gets both.
    this.executionLogGroup = logging.createNamedLogGroup(
      this,
      'ExecutionLogs',
      `API-Gateway-Execution-Logs_${this.api.restApiId}/${api.stage}`,
    );
    this.api.deploymentStage.node.addDependency(this.executionLogGroup);
    // The account-level logging role: only API Gateway acting for this account may assume it.
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole') as iam.Role | undefined;
    (cloudWatchRole?.node.defaultChild as iam.CfnRole | undefined)?.addPropertyOverride(
      'AssumeRolePolicyDocument.Statement.0.Condition',
      { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    );

    // Bodies up to 5 MB are this API's contract, so the common set's 8 KB body rule only counts here;
    // the JSON-schema validator and the function bound bodies instead.
    this.webAcl = new RegionalWebAcl(this, 'WebAcl', {
      name: `${props.platformName}-prediction`,
      countOnlyCommonRules: ['SizeRestrictions_BODY'],
    });
    this.webAcl.associate('StageAcl', this.api.deploymentStage.stageArn);

    Validations.of(method).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason:
          'Machine clients authenticate with their own API key bound to their own usage plan (throttling, quota), behind WAF; there are no end users to authorise with IAM or Cognito.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-COG4',
        reason: 'No Cognito user pool on this API: machine clients each use their own API key (see APIG4).',
      },
      {
        id: 'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check',
        reason:
          'The invoke permission names apigateway.amazonaws.com with a SourceArn of this API’s POST /predict (an Fn::Join the rule cannot evaluate).',
      },
    );
    if (cloudWatchRole) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-level API Gateway logging role AWS requires for execution logs (declared account.apiGatewayLoggingRole); AWS maintains its policy.',
      });
    }
  }

  /** The invoke URL of the prediction route. */
  get predictUrl(): string {
    return this.api.urlForPath(this.route);
  }
}
