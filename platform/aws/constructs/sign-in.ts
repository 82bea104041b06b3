import { Aws, Duration, Fn, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as elbv2Actions from 'aws-cdk-lib/aws-elasticloadbalancingv2-actions';
import type { Construct } from 'constructs';
import type { PlatformWiring } from '../../wiring/index.ts';

/** How the edge signs people in: the action put before a forward, and the user pool it made (Cognito). */
export interface SignIn {
  readonly guard: (next: elbv2.ListenerAction) => elbv2.ListenerAction;
  readonly userPool?: cognito.UserPool;
}

/**
 * The authenticate action put before a forward: Cognito (a user pool created in `scope`, no self
 * sign-up, MFA required) or the declared OIDC provider, whose client secret stays a dynamic reference.
 */
export function signInAction(
  scope: Construct,
  auth: PlatformWiring['edge']['auth'],
  platformName: string,
  domainName: string,
  retainUserPool: boolean,
): SignIn {
  if (auth.kind === 'oidc') {
    return {
      guard: (next) =>
        elbv2.ListenerAction.authenticateOidc({
          issuer: auth.issuer,
          authorizationEndpoint: auth.authorizationEndpoint,
          tokenEndpoint: auth.tokenEndpoint,
          userInfoEndpoint: auth.userInfoEndpoint,
          clientId: auth.clientId,
          // A dynamic reference: resolved by CloudFormation at deploy time, never in the template.
          clientSecret: SecretValue.secretsManager(auth.clientSecretName),
          scope: 'openid email',
          sessionTimeout: Duration.hours(8),
          next,
        }),
    };
  }
  const userPool = new cognito.UserPool(scope, 'UserPool', {
    userPoolName: `${platformName}-console`,
    // Operators are invited by an administrator; nobody signs themselves up.
    selfSignUpEnabled: false,
    signInAliases: { email: true },
    autoVerify: { email: true },
    mfa: cognito.Mfa.REQUIRED,
    mfaSecondFactor: { otp: true, sms: false },
    passwordPolicy: {
      minLength: 14,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: true,
      tempPasswordValidity: Duration.days(3),
    },
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    featurePlan: cognito.FeaturePlan.PLUS,
    standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
    // Kept on a teardown by default (teardown.retainUserPool): operators and their MFA survive a
    // rebuild. Deletion protection would make CloudFormation's delete fail, so it follows the choice.
    deletionProtection: retainUserPool,
    removalPolicy: retainUserPool ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  const userPoolDomain = userPool.addDomain('SignInDomain', {
    // Hosted sign-in prefixes are global per region: the account id keeps this one unique.
    cognitoDomain: { domainPrefix: Fn.join('-', [platformName, 'console', Aws.ACCOUNT_ID]) },
  });
  const userPoolClient = userPool.addClient('ConsoleClient', {
    generateSecret: true,
    preventUserExistenceErrors: true,
    supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
    oAuth: {
      flows: { authorizationCodeGrant: true },
      scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
      // The ALB's fixed callback path.
      callbackUrls: [`https://${domainName}/oauth2/idpresponse`],
    },
  });
  return {
    userPool,
    guard: (next) =>
      new elbv2Actions.AuthenticateCognitoAction({
        userPool,
        userPoolClient,
        userPoolDomain,
        sessionTimeout: Duration.hours(8),
        next,
      }),
  };
}
