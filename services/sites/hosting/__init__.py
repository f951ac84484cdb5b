"""The hosting app: sites, their deployments and custom domains, and the store the gateway serves."""
