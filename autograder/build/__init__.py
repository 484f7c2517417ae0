"""``dlkit build``: regenerate exercises/, the graded cells of source/ and release/ from solutions/."""
