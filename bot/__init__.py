"""青工委助手's composition root: settings read, the Application built and wired, the web
server, `python -m bot`. Nothing imports this package (see docs/ARCHITECTURE.md)."""
