"""End-to-end tests against real system services (OpenSSH)."""
