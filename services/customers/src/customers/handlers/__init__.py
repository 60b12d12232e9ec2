"""One module per endpoint; each module is packaged as its own Lambda function."""
