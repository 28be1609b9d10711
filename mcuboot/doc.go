// Package mcuboot reads, checks and writes MCUboot application images.
//
// An image is laid out as
//
//	[header (HeaderSize)] [payload (ImageSize)] [protected TLV area] [unprotected TLV area]
//
// followed, in a padded image, by 0xff bytes and the slot trailer. The image
// hash is SHA-256 (or SHA-384/512) over the header, payload and protected TLV
// area; signature TLVs sign that digest. Zephyr's SMP image list reports the
// hash TLV value, which is what [Image.Hash] returns.
//
// Build writes images byte for byte as imgtool 2.4 does for the same options.
package mcuboot
