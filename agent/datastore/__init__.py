"""The node agent's datastores: schema, data trees, edit-config engine, transactions and persistence."""
