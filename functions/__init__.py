"""Entry points for AWS Lambda."""
