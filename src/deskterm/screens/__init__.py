"""One Textual screen per module; shared widgets beside them."""
