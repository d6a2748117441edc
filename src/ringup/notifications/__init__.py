"""Messages to customers: branded HTML + text e-mail in the customer's language, SMS codes,
and the embedded mail folder shown in the back office."""
