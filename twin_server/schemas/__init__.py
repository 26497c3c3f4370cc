"""Request and response models of the API (``XCreate`` / ``XUpdate`` / ``XPublic``)."""
