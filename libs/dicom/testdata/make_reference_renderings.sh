#!/usr/bin/env bash
# Regenerates the reference renderings that reference_rendering_test.cc compares the
# display pipeline with. They come from DCMTK's dcmj2pnm (3.6.7 in Debian 12), an
# independent implementation of the same PS3.3 C.11 and PS3.14 steps:
#   - DX_MONO1_highdicom.dcm: MONOCHROME1, the file's first window (+Wi 1);
#   - vlut_04.dcm: MONOCHROME2, the first VOI LUT of the VOI LUT Sequence (+Wl 1).
# Run from anywhere; the DICOM input is the shared test set beside the checkout.
#   libs/dicom/testdata/make_reference_renderings.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${AILAB_DICOM_DATA_DIR:-$here/../../../../shared/data/dicom}"

dcmj2pnm --write-png +Wi 1 "$data/uncompressed/DX_MONO1_highdicom.dcm" \
  "$here/DX_MONO1_highdicom.window1.png"
dcmj2pnm --write-png +Wl 1 "$data/uncompressed/vlut_04.dcm" "$here/vlut_04.voilut1.png"
echo "wrote $here/DX_MONO1_highdicom.window1.png and $here/vlut_04.voilut1.png"
