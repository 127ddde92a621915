"""The client page's Billing tab: Subscription, Addon Packs (seed 000), Wallet, Payment requests
and Billing history (seed 002), one module per sub-tab with its table models."""
