"""Slack's Block Kit and message limits (docs.slack.dev, Block Kit reference)."""

MAX_BLOCKS = 50  # per message
MAX_HOME_BLOCKS = 100  # Home tab or modal
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
ACTIONS_ELEMENTS = 25
ID_CHARS = 255  # action_id and block_id
FIELDS = 10
FIELD_TEXT = 2000
MESSAGE_TEXT = 4000  # keep the plain fallback under this
