"""rvlib: building blocks for rtpvault's deterministic traffic generator (stdlib only)."""
