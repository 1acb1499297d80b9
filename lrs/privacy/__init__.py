"""The privacy paperwork (docs/privacy.md): a record of processing (GDPR Art. 30) and a DPIA
draft (Art. 35), built from the running configuration, never from prose that can drift.

`facts` gathers what the settings, the code's constants and the store say; `markdown`
renders those same facts under the articles' headings; `schema` is the JSON shape.
"""
