// Every test file: quiet logs unless asked, and no Node 20 notice from the AWS SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.LOG_LEVEL ??= 'silent';
process.env.AWS_REGION ??= 'local';
