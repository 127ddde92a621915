"""The client page (`page.ClientPage`): its header, Overview tab, Billing tab (`billing/`) and
portal preview, all rendered from one read (`services.client_page.load_client_page`)."""
