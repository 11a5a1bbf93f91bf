#!/usr/bin/python3
"""Writes copies of one DICOM file with fresh UIDs, for the C-STORE benchmark.

Usage: make_copies.py SOURCE OUT_DIR COUNT FOLDERS

Copy i gets a new SOP Instance UID, and a new study and series every 100 copies, and
goes into OUT_DIR/part<i % FOLDERS>/, so that FOLDERS senders can share the work.
"""
import os
import sys
import uuid

import pydicom


def new_uid():
    # UUID-derived UIDs (root 2.25) are unique without a registered root.
    return "2.25.%d" % uuid.uuid4().int


def main():
    source, out_dir, count, folders = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    dataset = pydicom.dcmread(source)
    for part in range(folders):
        os.makedirs(os.path.join(out_dir, "part%d" % part), exist_ok=True)
    for i in range(count):
        if i % 100 == 0:
            dataset.StudyInstanceUID = new_uid()
            dataset.SeriesInstanceUID = new_uid()
        uid = new_uid()
        dataset.SOPInstanceUID = uid
        dataset.file_meta.MediaStorageSOPInstanceUID = uid
        path = os.path.join(out_dir, "part%d" % (i % folders), "copy%06d.dcm" % i)
        dataset.save_as(path, write_like_original=True)


if __name__ == "__main__":
    main()
