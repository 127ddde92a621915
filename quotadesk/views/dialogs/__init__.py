"""The dialogs, one module per subject: a client's own details and campaigns, subscriptions,
add-on packs (apply, revoke), the first-run set-up, usage, the catalog editors, About."""
