"""The library: characters and styles saved once and reused by name, and each person's own defaults.

`models` holds what is kept and the naming rules, `service.Library` the rules of who may do what,
`matching` the autocomplete order, `pictures` thumbnails and the `/characters list` sheet, `texts` the replies.
"""
