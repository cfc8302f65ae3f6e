"""Pure domain logic: no Textual, no Peewee. Takes a clock, returns plain data."""
