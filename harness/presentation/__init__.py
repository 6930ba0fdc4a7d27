"""Presentation: number formatting, blocks and their renderers (terminal, Markdown, HTML), the report's
sections, and (in :mod:`.figures`) the matplotlib figures. Reads the analysis; nothing below imports it."""
