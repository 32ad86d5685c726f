web.container.d is a file, not a directory: ignored.
