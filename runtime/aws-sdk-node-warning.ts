/**
 * Imported first by each of our processes that builds an AWS SDK client. Our processes run on Node 20,
 * for which the AWS SDK for JavaScript v3 prints a 9-line NodeVersionSupportWarning when its first
 * client is made (SDK versions published after January 2027 require Node 22). The SDK's documented
 * switch, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true (its maintainers' announcement,
 * aws/aws-sdk-js-v3#7983), turns it off; it is set here, in our own process, not in the environment of
 * the user's shell or of the applications the local runtime starts. An explicit value is kept.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
