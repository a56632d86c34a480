"""Set-based read queries. SQL lives here, each statement with a comment saying why it is SQL."""
