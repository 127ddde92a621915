"""QuotaDesk: a back-office desk for agencies that resell voice minutes, SMS and email."""

__version__ = "0.1.0"
