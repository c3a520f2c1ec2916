"""The data-problem loop (数据问题反馈整改): find, file, route, track, notify, assess.

- :mod:`~matcher.problems.codes`      problem codes, Chinese descriptions, masking
- :mod:`~matcher.catalog.departments`  the department and licence directory (data), routing
- :mod:`~matcher.problems.detect`     what one waive-check met, as reports to file
- :mod:`~matcher.problems.store`      reports: query, workflow, history
- :mod:`~matcher.problems.loop`       the follow-up after each check, off the request path
- :mod:`~matcher.problems.webhooks`   signed, retried department webhooks
- :mod:`~matcher.problems.assess`, :mod:`~matcher.problems.charts`, :mod:`~matcher.problems.export`
  the assessment (考核), its chart and workbook; CSV and XLSX exports

Filing itself happens with the check's records (matcher.store.records), in the same transaction.

May import: waiver (decisions, evidence), catalog, store, errors, extras.
"""
