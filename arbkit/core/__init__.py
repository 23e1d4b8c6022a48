"""Pure domain logic: books, pairs, fees, detector, risk, paper fills, portfolio.

Nothing in this package performs I/O, reads the wall clock, or uses the global `random`.
"""
