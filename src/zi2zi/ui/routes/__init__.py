"""The web app's routes, one module per page of the front end (``static/index.html``'s tabs).

- ``page``: the page itself (HTML, script, style sheet) and the lists its menus load
  (``/api/info``, ``/api/installed-fonts``)
- ``projects``: the Projects tab and every page's state: list, create, a project's state, its files
- ``target``: From a font, step 1: the font to learn, uploaded or an installed one
- ``training``: the base model and the fine-tune, on both From pages: base, start, stop, progress
- ``handwriting``: From handwriting: the template, the photos of the written pages, rejecting a cell
- ``review``: Review: generating, the glyph grid, excluding and regenerating a glyph, specimens
- ``export``: Export: building or merging the font
- ``common``: what several of them share: the app's context, the request checks, the base choices

:func:`zi2zi.ui.app.create_app` puts them together with the guard and the error handlers.
"""
