"""Offline checks of the deployment: images, docker-compose.yml, k8s/ and the gateway config."""
