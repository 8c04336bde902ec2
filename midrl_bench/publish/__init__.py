"""The built dataset as a Hub dataset repo: card rendering (`card`), layout and manifest (`layout`), upload (`hub`)."""
