"""Every byte the blog sends to another host: the guarded HTTP client, its
address policy and the sockets pinned to a checked address."""
