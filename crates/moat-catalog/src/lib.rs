//! Catalogers: OS and language packages found through a FileResolver.
