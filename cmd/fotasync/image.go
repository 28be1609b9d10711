package main

import (
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/fotasync/fotasync/mcuboot"
)

func newImage() *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Inspect and build MCUboot images"}
	cmd.AddCommand(newImageInfo(), newImageSign())
	return cmd
}

func newImageInfo() *cobra.Command {
	var keys []string
	cmd := &cobra.Command{
		Use:   "info FILE [--key PEM]",
		Short: "Print an image's header and TLVs and verify its hash (and signature, given a key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("image info: %w", err)
			}
			pubs, err := readKeys(keys)
			if err != nil {
				return err
			}
			img, err := mcuboot.Parse(b)
			if err != nil {
				return fmt.Errorf("image info: %s: %w", args[0], err)
			}
			out := cmd.OutOrStdout()
			printImage(out, img, b)
			if err := img.Verify(pubs...); err != nil {
				return fmt.Errorf("image info: %s: %w", args[0], err)
			}
			if len(pubs) > 0 {
				fmt.Fprintln(out, "verify      hash and signature good")
			} else {
				fmt.Fprintln(out, "verify      hash good (no key given: signature not checked)")
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&keys, "key", nil, "public key PEM to check the signature with (repeatable)")
	return cmd
}

func printImage(out io.Writer, img *mcuboot.Image, file []byte) {
	h := img.Header
	sum := sha256.Sum256(file)
	fmt.Fprintf(out, "version     %s\n", h.Version)
	fmt.Fprintf(out, "hash        %x\n", img.Hash())
	fmt.Fprintf(out, "file sha256 %x (%d bytes; image %d bytes)\n", sum, len(file), img.Len())
	fmt.Fprintf(out, "header      size %#x, load address %#x, flags %#x, payload %d bytes\n",
		h.HeaderSize, h.LoadAddr, h.Flags, h.ImageSize)
	for _, area := range []struct {
		name string
		tlvs []mcuboot.TLV
	}{{"protected", img.Protected}, {"tlv", img.Unprotected}} {
		for _, t := range area.tlvs {
			v := hex.EncodeToString(t.Value)
			if len(v) > 64 {
				v = v[:64] + "..."
			}
			fmt.Fprintf(out, "%-11s %-12s %4d  %s\n", area.name, mcuboot.TLVName(t.Type), len(t.Value), v)
		}
	}
}

func newImageSign() *cobra.Command {
	var (
		version, keyPath  string
		headerSize, align int
		slotSize          int
		pad, confirm      bool
	)
	cmd := &cobra.Command{
		Use:   "sign PAYLOAD OUT --version V [--key PRIVATE.pem]",
		Short: "Wrap a binary into an MCUboot image, as imgtool sign does",
		Example: `  fotasync image sign zephyr.bin app.bin --version 1.2.3+4 --key root-ec-p256.pem
  fotasync image sign zephyr.bin app.bin --version 2.0.0 --slot-size 0x60000 --pad`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := mcuboot.ParseVersion(version)
			if err != nil {
				return fmt.Errorf("image sign: --version: %w", err)
			}
			payload, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("image sign: %w", err)
			}
			var signer crypto.Signer
			if keyPath != "" {
				pem, err := os.ReadFile(keyPath)
				if err != nil {
					return fmt.Errorf("image sign: --key: %w", err)
				}
				if signer, err = mcuboot.ParsePrivateKeyPEM(pem); err != nil {
					return fmt.Errorf("image sign: --key %s: %w", keyPath, err)
				}
			}
			img, err := mcuboot.Build(payload, mcuboot.BuildOptions{Version: v, HeaderSize: headerSize, Align: align,
				SlotSize: slotSize, Pad: pad, Confirm: confirm, Signer: signer})
			if err != nil {
				return fmt.Errorf("image sign: %w", err)
			}
			if err := writeFileAtomic(args[1], img); err != nil {
				return fmt.Errorf("image sign: %w", err)
			}
			parsed, err := mcuboot.Parse(img)
			if err != nil {
				return fmt.Errorf("image sign: %w", err)
			}
			printImage(cmd.OutOrStdout(), parsed, img)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&version, "version", "", "image version: MAJOR.MINOR.REVISION[+BUILD]")
	f.StringVar(&keyPath, "key", "", "private key PEM (RSA, ECDSA P-256/P-384, Ed25519); none: hash-only image")
	f.IntVar(&headerSize, "header-size", mcuboot.DefaultHeaderSize, "header area in bytes (imgtool -H)")
	f.IntVar(&align, "align", 0, "flash write alignment for the trailer: 1, 2, 4, 8, 16, 32 (0: 8)")
	f.IntVar(&slotSize, "slot-size", 0, "slot size in bytes (imgtool -S); needed for --pad")
	f.BoolVar(&pad, "pad", false, "pad to the slot size and write the trailer magic")
	f.BoolVar(&confirm, "confirm", false, "also mark the image confirmed in the trailer (implies --pad)")
	cmd.MarkFlagRequired("version")
	return cmd
}

// writeFileAtomic writes b to path through a temporary file, so a failure
// never leaves a half-written image behind.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
