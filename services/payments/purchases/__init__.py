"""Purchases: credit packs bought through Stripe Checkout and fulfilled from Stripe's webhook."""
