"""The main screen's widgets: ticket queue, technician board, countdown pane and desk header.

Widgets never touch the database: they render records and the ``SlaBoard`` handed to them.
"""
