"""The checks, by section of the paper: :mod:`.sec4` (Prop. 4.1, Thms 4.2-4.4, the threshold
``c_0``), :mod:`.appB` (Thms B.1-B.3, obtuse simplex), :mod:`.appC` (Prop. C.1, equilateral
triangle).  Importing a module registers its statements (:mod:`proofs_check.registry`)."""
