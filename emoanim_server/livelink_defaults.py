"""Live Link Face defaults, in a module with no imports: the CLI parser (built on every `emoanim`
call, `--help` included) and the packet code both read them, and the parser must not load numpy."""

#: the port Unreal's Live Link Face source listens on by default
DEFAULT_PORT = 11111
#: the app's default subject name (its Live Link settings default to the device name)
DEFAULT_SUBJECT = "iPhone"
