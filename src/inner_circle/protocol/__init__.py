"""The wire contract shared by the server, the SDK and (generated) the web client."""
