/** The SAM family: each file states only its difference from SAM (src/core/sam.ts). */
