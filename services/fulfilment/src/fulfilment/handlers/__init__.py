"""The fulfilment handlers: one Lambda function per module."""
