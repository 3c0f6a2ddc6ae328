"""The whole product on loopback: sandboxes, a fake Slack, scripted people, a demo run."""
