"""Regenerates the numpy-written .npy fixtures read by NpyTest (run here with numpy >= 1.17: python3 make_npy_fixtures.py)."""
import numpy as np
from numpy.lib import format as fmt

np.save('numpy_f4_2x3.npy', np.arange(6, dtype='<f4').reshape(2, 3) / 4)
np.save('numpy_i4_fortran_2x3x2.npy', np.asfortranarray(np.arange(12, dtype='<i4').reshape(2, 3, 2)))
np.save('numpy_b1_3.npy', np.array([True, False, True]))
np.save('numpy_u1_2x2.npy', np.array([[0, 1], [200, 255]], dtype='u1'))
np.save('numpy_i8_scalar.npy', np.array(-7, dtype='<i8'))
with open('numpy_v2_f8_4.npy', 'wb') as f:
    fmt.write_array(f, np.array([1.5, -2.0, 1e300, 0.0]), version=(2, 0))
with open('numpy_v3_f4_2.npy', 'wb') as f:
    fmt.write_array(f, np.array([3.0, 4.0], dtype='<f4'), version=(3, 0))
np.save('numpy_f4_bigendian.npy', np.arange(3, dtype='>f4'))
