"""Applications (信息免填): forms as data, pre-filling each field with its source, the filled PDF,
the clerk's workbench's view of a kept application, and the application service.

May import: waiver, problems, extract, catalog, store, errors.
"""
