"""The part of the grader that runs beside student code.

Nothing in this package is secret: it holds no reference solution, no hidden
input and no expected value. It only imports a student's module, calls what
the grader asks for, and sends back plain data (see ``protocol``).
"""
