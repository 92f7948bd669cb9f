"""rightsmesh node: the aiohttp server, gossip engine, SQLite storage, web UI, wallet and CLI (all the IO)."""
