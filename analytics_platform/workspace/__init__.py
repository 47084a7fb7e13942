"""The analysts' workspace: a REST API and web pages over the cases (``analytics-platform
serve``), read through the same lake readers as the CLI (``casework``), with users and roles."""
