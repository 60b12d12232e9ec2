"""The fulfilment service: ships what the orders service places."""
