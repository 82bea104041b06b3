import { Validations } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { TestRouteWiring } from '../../wiring/index.ts';
import { guardRule } from '../validation.ts';

/** The wiring's test route as the edge renders it. */
export interface TestListenerProps {
  readonly route: TestRouteWiring;
  /** CIDRs the test port admits: the NAT gateways' addresses (known only to the network construct). */
  readonly sources: readonly string[];
}

/**
 * The test route's listener: its own port, the production certificate, the JSON 404 for anything no
 * test rule matches, and ingress only from the NAT gateways' addresses (the deployment gate's
 * requests leave the VPC there; tasks and instances have no egress to this port).
 */
export function renderTestListener(
  loadBalancer: elbv2.ApplicationLoadBalancer,
  test: TestListenerProps,
  notFound: elbv2.ListenerAction,
  certificate: acm.ICertificate | undefined,
): elbv2.ApplicationListener {
  const https = test.route.protocol === 'HTTPS';
  const listener = loadBalancer.addListener('TestListener', {
    protocol: https ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
    port: test.route.port,
    ...(https && certificate
      ? { certificates: [certificate], sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS }
      : {}),
    open: false,
    defaultAction: notFound,
  });
  for (const cidr of test.sources) {
    listener.connections.allowFrom(
      ec2.Peer.ipv4(cidr),
      ec2.Port.tcp(test.route.port),
      'Test route: the NAT gateways (the deployment gate probes new revisions from inside the VPC)',
    );
  }
  if (!https) {
    Validations.of(listener).acknowledge({
      id: guardRule('alb_http_to_https_redirection_check'),
      reason:
        'edge.insecureHttpOnly is declared, so the test route is plain HTTP like the production listener; its port admits only the NAT gateways of this VPC.',
    });
  }
  return listener;
}
