import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** Props of {@link RegionalWebAcl}. */
export interface RegionalWebAclProps {
  /** Names the ACL and its metrics, e.g. `acme-edge`. */
  readonly name: string;
  /**
   * Requests one client IP may send in any 5-minute window before WAF blocks it (the window slides).
   * @default 1000
   */
  readonly requestsPerIpPer5Minutes?: number;
  /**
   * Rules of the common rule set that only count instead of block, e.g. `SizeRestrictions_BODY` for an
   * API whose bodies are larger than the set's 8 KB limit by design.
   * @default - none: every rule of the set blocks
   */
  readonly countOnlyCommonRules?: readonly string[];
}

/** The AWS managed rule group every web ACL here carries. */
export const COMMON_RULE_SET = 'AWSManagedRulesCommonRuleSet';

/**
 * An AWS WAF web ACL for regional resources (an ALB, an API Gateway stage): a per-IP rate-based rule
 * that blocks, then AWS's managed common rule set (OWASP-style request checks); everything else is
 * allowed. CloudWatch metrics and sampled requests on each rule.
 *
 * @example
 * const acl = new RegionalWebAcl(this, 'WebAcl', { name: 'acme-edge' });
 * acl.associate('Alb', loadBalancer.loadBalancerArn);
 */
export class RegionalWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly requestsPerIpPer5Minutes: number;

  constructor(scope: Construct, id: string, props: RegionalWebAclProps) {
    super(scope, id);
    this.requestsPerIpPer5Minutes = props.requestsPerIpPer5Minutes ?? 1000;
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: props.name,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(props.name),
      rules: [
        {
          name: 'rate-limit-per-ip',
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: this.requestsPerIpPer5Minutes,
              aggregateKeyType: 'IP',
              evaluationWindowSec: 300,
            },
          },
          visibilityConfig: visibility(`${props.name}-rate-limit`),
        },
        {
          name: 'aws-common-rule-set',
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: COMMON_RULE_SET,
              ...(props.countOnlyCommonRules?.length
                ? {
                    ruleActionOverrides: props.countOnlyCommonRules.map((name) => ({
                      name,
                      actionToUse: { count: {} },
                    })),
                  }
                : {}),
            },
          },
          visibilityConfig: visibility(`${props.name}-common`),
        },
      ],
    });
  }

  /** Attaches the ACL to a regional resource (ALB ARN or API Gateway stage ARN). */
  associate(id: string, resourceArn: string): wafv2.CfnWebACLAssociation {
    return new wafv2.CfnWebACLAssociation(this, id, { resourceArn, webAclArn: this.webAcl.attrArn });
  }
}
