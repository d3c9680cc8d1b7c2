"""Chain Bot's Slack app, renderers and command line."""
