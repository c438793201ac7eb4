;; Fused elementwise passes for the sharpness-aware step, in WebAssembly SIMD, run on the memory of
;; tfjs-backend-wasm (imported, not copied). Pointers are byte offsets of float32 arrays; n counts
;; elements. Reductions accumulate in float64 (as tfjs-backend-cpu does); elementwise results round
;; every product and sum to float32 exactly like the separate tfjs ops they replace (no FMA).
;; Compiled into fused-binary.ts by `npm run build:fused`. Loops are written out (no helper calls
;; inside them: V8 does not inline wasm calls, and a call per iteration costs 5×). The shuffle
;; 8..15 0..7 moves the upper two float32 lanes down for f64x2.promote_low_f32x4.
(module
  (import "env" "memory" (memory 0))

  (func $horizontal (param $a v128) (param $b v128) (result f64)
    (local $s v128)
    (local.set $s (f64x2.add (local.get $a) (local.get $b)))
    (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s))))

  ;; Σ x[i]·y[i] (x = y gives Σ x²); 8 elements per iteration into four float64 pairs.
  (func $dot (export "dot") (param $x i32) (param $y i32) (param $n i32) (result f64)
    (local $end i32) (local $vx v128) (local $vy v128)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $sum f64)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $vx (v128.load (local.get $x)))
        (local.set $vy (v128.load (local.get $y)))
        (local.set $acc0 (f64x2.add (local.get $acc0)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $vx)) (f64x2.promote_low_f32x4 (local.get $vy)))))
        (local.set $acc1 (f64x2.add (local.get $acc1)
          (f64x2.mul
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vx) (local.get $vx)))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vy) (local.get $vy))))))
        (local.set $vx (v128.load offset=16 (local.get $x)))
        (local.set $vy (v128.load offset=16 (local.get $y)))
        (local.set $acc2 (f64x2.add (local.get $acc2)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $vx)) (f64x2.promote_low_f32x4 (local.get $vy)))))
        (local.set $acc3 (f64x2.add (local.get $acc3)
          (f64x2.mul
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vx) (local.get $vx)))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vy) (local.get $vy))))))
        (local.set $x (i32.add (local.get $x) (i32.const 32)))
        (local.set $y (i32.add (local.get $y) (i32.const 32)))
        (br $next)))
    (local.set $sum (call $horizontal (f64x2.add (local.get $acc0) (local.get $acc2)) (f64x2.add (local.get $acc1) (local.get $acc3))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $sum (f64.add (local.get $sum)
          (f64.mul (f64.promote_f32 (f32.load (local.get $x))) (f64.promote_f32 (f32.load (local.get $y))))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (br $tail)))
    (local.get $sum))

  ;; Σ x[i]², Σ y[i]², Σ x[i]·y[i] in one pass.
  (func (export "gram") (param $x i32) (param $y i32) (param $n i32) (result f64 f64 f64)
    (local $end i32) (local $vx v128) (local $vy v128)
    (local $xl v128) (local $xh v128) (local $yl v128) (local $yh v128)
    (local $xx0 v128) (local $xx1 v128) (local $yy0 v128) (local $yy1 v128)
    (local $xy0 v128) (local $xy1 v128)
    (local $a f64) (local $b f64) (local $sxx f64) (local $syy f64) (local $sxy f64)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $vx (v128.load (local.get $x)))
        (local.set $vy (v128.load (local.get $y)))
        (local.set $xl (f64x2.promote_low_f32x4 (local.get $vx)))
        (local.set $xh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vx) (local.get $vx))))
        (local.set $yl (f64x2.promote_low_f32x4 (local.get $vy)))
        (local.set $yh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vy) (local.get $vy))))
        (local.set $xx0 (f64x2.add (local.get $xx0) (f64x2.mul (local.get $xl) (local.get $xl))))
        (local.set $xx1 (f64x2.add (local.get $xx1) (f64x2.mul (local.get $xh) (local.get $xh))))
        (local.set $yy0 (f64x2.add (local.get $yy0) (f64x2.mul (local.get $yl) (local.get $yl))))
        (local.set $yy1 (f64x2.add (local.get $yy1) (f64x2.mul (local.get $yh) (local.get $yh))))
        (local.set $xy0 (f64x2.add (local.get $xy0) (f64x2.mul (local.get $xl) (local.get $yl))))
        (local.set $xy1 (f64x2.add (local.get $xy1) (f64x2.mul (local.get $xh) (local.get $yh))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $next)))
    (local.set $sxx (call $horizontal (local.get $xx0) (local.get $xx1)))
    (local.set $syy (call $horizontal (local.get $yy0) (local.get $yy1)))
    (local.set $sxy (call $horizontal (local.get $xy0) (local.get $xy1)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $a (f64.promote_f32 (f32.load (local.get $x))))
        (local.set $b (f64.promote_f32 (f32.load (local.get $y))))
        (local.set $sxx (f64.add (local.get $sxx) (f64.mul (local.get $a) (local.get $a))))
        (local.set $syy (f64.add (local.get $syy) (f64.mul (local.get $b) (local.get $b))))
        (local.set $sxy (f64.add (local.get $sxy) (f64.mul (local.get $a) (local.get $b))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (br $tail)))
    (local.get $sxx) (local.get $syy) (local.get $sxy))

  ;; 1 when some element is NaN or ±Inf (all exponent bits set), else 0.
  (func (export "anyNonFinite") (param $x i32) (param $n i32) (result i32)
    (local $end i32) (local $mask v128) (local $seen v128) (local $found i32)
    (local.set $mask (i32x4.splat (i32.const 0x7f800000)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $seen (v128.or (local.get $seen)
          (i32x4.eq (v128.and (v128.load (local.get $x)) (local.get $mask)) (local.get $mask))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $next)))
    (local.set $found (v128.any_true (local.get $seen)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $found (i32.or (local.get $found)
          (i32.eq (i32.and (i32.load (local.get $x)) (i32.const 0x7f800000)) (i32.const 0x7f800000))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $tail)))
    (local.get $found))

  ;; out[i] = a·x[i] + b·y[i] in float32; a = 1 gives x + b·y with the same rounding as tf.add(x, tf.mul(y, b)).
  (func (export "axpby") (param $a f32) (param $x i32) (param $b f32) (param $y i32) (param $out i32) (param $n i32)
    (local $end i32) (local $va v128) (local $vb v128) (local $scaleX i32)
    (local.set $scaleX (f32.ne (local.get $a) (f32.const 1)))
    (local.set $va (f32x4.splat (local.get $a)))
    (local.set $vb (f32x4.splat (local.get $b)))
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (if (local.get $scaleX)
      (then
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
            (v128.store (local.get $out) (f32x4.add
              (f32x4.mul (v128.load (local.get $x)) (local.get $va))
              (f32x4.mul (v128.load (local.get $y)) (local.get $vb))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (br $next))))
      (else
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
            (v128.store (local.get $out) (f32x4.add
              (v128.load (local.get $x))
              (f32x4.mul (v128.load (local.get $y)) (local.get $vb))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (br $next)))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (f32.add
          (select (f32.mul (f32.load (local.get $x)) (local.get $a)) (f32.load (local.get $x)) (local.get $scaleX))
          (f32.mul (f32.load (local.get $y)) (local.get $b))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $tail))))

  ;; One step of SGD on w with the gradient u = a·g1 + b·g2, every product and sum rounded to
  ;; float32 in the order of tfjs's ops: flag 1, coupled decay u ← u + w·λ (WeightDecay); flag 2,
  ;; momentum v' = μ·v + u, written to $outV, steps with v' (tf.train.momentum); then
  ;; w' = c·u + w with c = −lr, written to $outW (tf.train.sgd). Returns 1 when some element of
  ;; a·g1 + b·g2 is NaN or ±Inf (all exponent bits set), else 0.
  (func (export "sgdStep") (param $a f32) (param $g1 i32) (param $b f32) (param $g2 i32)
    (param $w i32) (param $decay f32) (param $v i32) (param $mu f32) (param $c f32)
    (param $outW i32) (param $outV i32) (param $flags i32) (param $n i32) (result i32)
    (local $end i32) (local $hasDecay i32) (local $hasMomentum i32) (local $found i32)
    (local $va v128) (local $vb v128) (local $vDecay v128) (local $vMu v128) (local $vc v128)
    (local $mask v128) (local $seen v128) (local $u v128) (local $vw v128)
    (local $su f32) (local $sw f32)
    (local.set $hasDecay (i32.and (local.get $flags) (i32.const 1)))
    (local.set $hasMomentum (i32.and (local.get $flags) (i32.const 2)))
    (local.set $va (f32x4.splat (local.get $a)))
    (local.set $vb (f32x4.splat (local.get $b)))
    (local.set $vDecay (f32x4.splat (local.get $decay)))
    (local.set $vMu (f32x4.splat (local.get $mu)))
    (local.set $vc (f32x4.splat (local.get $c)))
    (local.set $mask (i32x4.splat (i32.const 0x7f800000)))
    (local.set $end (i32.add (local.get $outW) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $outW) (local.get $end)))
        (local.set $u (f32x4.add
          (f32x4.mul (v128.load (local.get $g1)) (local.get $va))
          (f32x4.mul (v128.load (local.get $g2)) (local.get $vb))))
        (local.set $seen (v128.or (local.get $seen)
          (i32x4.eq (v128.and (local.get $u) (local.get $mask)) (local.get $mask))))
        (local.set $vw (v128.load (local.get $w)))
        (if (local.get $hasDecay)
          (then (local.set $u (f32x4.add (local.get $u) (f32x4.mul (local.get $vw) (local.get $vDecay))))))
        (if (local.get $hasMomentum)
          (then
            (local.set $u (f32x4.add (f32x4.mul (local.get $vMu) (v128.load (local.get $v))) (local.get $u)))
            (v128.store (local.get $outV) (local.get $u))
            (local.set $v (i32.add (local.get $v) (i32.const 16)))
            (local.set $outV (i32.add (local.get $outV) (i32.const 16)))))
        (v128.store (local.get $outW) (f32x4.add (f32x4.mul (local.get $vc) (local.get $u)) (local.get $vw)))
        (local.set $g1 (i32.add (local.get $g1) (i32.const 16)))
        (local.set $g2 (i32.add (local.get $g2) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $outW (i32.add (local.get $outW) (i32.const 16)))
        (br $next)))
    (local.set $found (v128.any_true (local.get $seen)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $outW) (local.get $end)))
        (local.set $su (f32.add
          (f32.mul (f32.load (local.get $g1)) (local.get $a))
          (f32.mul (f32.load (local.get $g2)) (local.get $b))))
        (local.set $found (i32.or (local.get $found)
          (i32.eq (i32.and (i32.reinterpret_f32 (local.get $su)) (i32.const 0x7f800000)) (i32.const 0x7f800000))))
        (local.set $sw (f32.load (local.get $w)))
        (if (local.get $hasDecay)
          (then (local.set $su (f32.add (local.get $su) (f32.mul (local.get $sw) (local.get $decay))))))
        (if (local.get $hasMomentum)
          (then
            (local.set $su (f32.add (f32.mul (local.get $mu) (f32.load (local.get $v))) (local.get $su)))
            (f32.store (local.get $outV) (local.get $su))
            (local.set $v (i32.add (local.get $v) (i32.const 4)))
            (local.set $outV (i32.add (local.get $outV) (i32.const 4)))))
        (f32.store (local.get $outW) (f32.add (f32.mul (local.get $c) (local.get $su)) (local.get $sw)))
        (local.set $g1 (i32.add (local.get $g1) (i32.const 4)))
        (local.set $g2 (i32.add (local.get $g2) (i32.const 4)))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (local.set $outW (i32.add (local.get $outW) (i32.const 4)))
        (br $tail)))
    (local.get $found))

  ;; B's columns in blocks of 8, each block's k rows of 8 contiguous (32 bytes a row, k·32 bytes a
  ;; block), so that matmul reads a block sequentially: in row-major B, rows 4 KiB apart (n = 1024)
  ;; fall into one L1 cache set and evict each other. Columns past the last full block are left out.
  (func (export "packColumnBlocks") (param $b i32) (param $packed i32) (param $k i32) (param $n i32)
    (local $block i32) (local $blocks i32) (local $from i32) (local $p i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $blocks (i32.shr_u (local.get $n) (i32.const 3)))
    (block $blocksDone
      (loop $blockLoop
        (br_if $blocksDone (i32.ge_u (local.get $block) (local.get $blocks)))
        (local.set $from (i32.add (local.get $b) (i32.shl (local.get $block) (i32.const 5))))
        (local.set $p (local.get $k))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.eqz (local.get $p)))
            (v128.store (local.get $packed) (v128.load (local.get $from)))
            (v128.store offset=16 (local.get $packed) (v128.load offset=16 (local.get $from)))
            (local.set $packed (i32.add (local.get $packed) (i32.const 32)))
            (local.set $from (i32.add (local.get $from) (local.get $rowBytes)))
            (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (br $rows)))
        (local.set $block (i32.add (local.get $block) (i32.const 1)))
        (br $blockLoop))))

  ;; packColumnBlocks of B = Wᵀ, read from W (n × k, row-major) without forming B: block j holds
  ;; rows 8j … 8j + 7 of W side by side, k rows of 8 floats. Four columns of eight rows of W at a
  ;; time, each group of four rows transposed in registers as in transpose2d; k mod 4 columns
  ;; one element at a time. n must be a multiple of 8.
  (func (export "packTransposedColumnBlocks") (param $w i32) (param $packed i32) (param $k i32) (param $n i32)
    (local $block i32) (local $blocks i32) (local $row i32) (local $p i32) (local $k4 i32) (local $c i32)
    (local $rowBytes i32) (local $to i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $r4 v128) (local $r5 v128) (local $r6 v128) (local $r7 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $t4 v128) (local $t5 v128) (local $t6 v128) (local $t7 v128)
    (local.set $rowBytes (i32.shl (local.get $k) (i32.const 2)))
    (local.set $blocks (i32.shr_u (local.get $n) (i32.const 3)))
    (local.set $k4 (i32.and (local.get $k) (i32.const -4)))
    (block $blocksDone
      (loop $blockLoop
        (br_if $blocksDone (i32.ge_u (local.get $block) (local.get $blocks)))
        (local.set $row (i32.add (local.get $w) (i32.mul (i32.shl (local.get $block) (i32.const 3)) (local.get $rowBytes))))
        (local.set $p (i32.const 0))
        (block $depthDone
          (loop $depth
            (br_if $depthDone (i32.ge_u (local.get $p) (local.get $k4)))
            (local.set $r0 (v128.load (local.get $row)))
            (local.set $r1 (v128.load (i32.add (local.get $row) (local.get $rowBytes))))
            (local.set $r2 (v128.load (i32.add (local.get $row) (i32.mul (local.get $rowBytes) (i32.const 2)))))
            (local.set $r3 (v128.load (i32.add (local.get $row) (i32.mul (local.get $rowBytes) (i32.const 3)))))
            (local.set $r4 (v128.load (i32.add (local.get $row) (i32.shl (local.get $rowBytes) (i32.const 2)))))
            (local.set $r5 (v128.load (i32.add (local.get $row) (i32.mul (local.get $rowBytes) (i32.const 5)))))
            (local.set $r6 (v128.load (i32.add (local.get $row) (i32.mul (local.get $rowBytes) (i32.const 6)))))
            (local.set $r7 (v128.load (i32.add (local.get $row) (i32.mul (local.get $rowBytes) (i32.const 7)))))
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
            (local.set $t4 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r4) (local.get $r5)))
            (local.set $t5 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r4) (local.get $r5)))
            (local.set $t6 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r6) (local.get $r7)))
            (local.set $t7 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r6) (local.get $r7)))
            (local.set $to (local.get $packed))
            (v128.store (local.get $to) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (v128.store offset=16 (local.get $to) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t4) (local.get $t6)))
            (v128.store offset=32 (local.get $to) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (v128.store offset=48 (local.get $to) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t4) (local.get $t6)))
            (v128.store offset=64 (local.get $to) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (v128.store offset=80 (local.get $to) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t5) (local.get $t7)))
            (v128.store offset=96 (local.get $to) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (v128.store offset=112 (local.get $to) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t5) (local.get $t7)))
            (local.set $packed (i32.add (local.get $packed) (i32.const 128)))
            (local.set $row (i32.add (local.get $row) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $depth)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $p) (local.get $k)))
            (local.set $c (i32.const 0))
            (block $columnsDone
              (loop $columns
                (br_if $columnsDone (i32.ge_u (local.get $c) (i32.const 8)))
                (f32.store (i32.add (local.get $packed) (i32.shl (local.get $c) (i32.const 2)))
                  (f32.load (i32.add (local.get $row) (i32.mul (local.get $c) (local.get $rowBytes)))))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $columns)))
            (local.set $packed (i32.add (local.get $packed) (i32.const 32)))
            (local.set $row (i32.add (local.get $row) (i32.const 4)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $tail)))
        (local.set $block (i32.add (local.get $block) (i32.const 1)))
        (br $blockLoop))))

  ;; out = A·B for one m×k by k×n product in float32. B and out are row-major with rows of
  ;; `stride` floats (stride = n, or more for a panel of columns of a wider product); A's element
  ;; (i, p) is at a + i·rowStrideA + p·colStrideA bytes, so a transposed A needs no copy. The full
  ;; blocks of 8 columns read B from blocksB: row p of block j at blocksB + j·blockStride +
  ;; p·blockRowBytes (B itself: blockStride 32, blockRowBytes 4·stride; the output of
  ;; packColumnBlocks or packTransposedColumnBlocks: blockStride 32k, blockRowBytes 32); the
  ;; columns past the last full block read B itself. Blocks of 4 rows × 8 columns keep eight
  ;; accumulators in registers: each step over p loads one row segment of B and broadcasts one
  ;; element of each of A's four rows.
  ;; Sums run over p in order, one rounding per product and per sum (no FMA). With accumulate ≠ 0
  ;; the sums start from out's values instead of 0: a product split along k into consecutive parts
  ;; then rounds exactly as the whole one.
  (func (export "matmul") (param $a i32) (param $b i32) (param $out i32) (param $m i32) (param $k i32)
    (param $n i32) (param $stride i32) (param $rowStrideA i32) (param $colStrideA i32) (param $accumulate i32)
    (param $blocksB i32) (param $blockRowBytes i32) (param $blockStride i32)
    (local $i i32) (local $j i32) (local $p i32) (local $rowBytes i32) (local $rows4 i32) (local $cols8 i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $from i32) (local $to i32)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $rowBytes (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $rows4 (i32.and (local.get $m) (i32.const -4)))
    (local.set $cols8 (i32.and (local.get $n) (i32.const -8)))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rows4)))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $cols8)))
            (local.set $to (i32.add (local.get $out)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $stride)) (local.get $j)) (i32.const 2))))
            (if (local.get $accumulate)
              (then
                (local.set $from (local.get $to))
                (local.set $c00 (v128.load (local.get $from)))
                (local.set $c01 (v128.load offset=16 (local.get $from)))
                (local.set $from (i32.add (local.get $from) (local.get $rowBytes)))
                (local.set $c10 (v128.load (local.get $from)))
                (local.set $c11 (v128.load offset=16 (local.get $from)))
                (local.set $from (i32.add (local.get $from) (local.get $rowBytes)))
                (local.set $c20 (v128.load (local.get $from)))
                (local.set $c21 (v128.load offset=16 (local.get $from)))
                (local.set $from (i32.add (local.get $from) (local.get $rowBytes)))
                (local.set $c30 (v128.load (local.get $from)))
                (local.set $c31 (v128.load offset=16 (local.get $from))))
              (else
                (local.set $c00 (v128.const i32x4 0 0 0 0))
                (local.set $c01 (v128.const i32x4 0 0 0 0))
                (local.set $c10 (v128.const i32x4 0 0 0 0))
                (local.set $c11 (v128.const i32x4 0 0 0 0))
                (local.set $c20 (v128.const i32x4 0 0 0 0))
                (local.set $c21 (v128.const i32x4 0 0 0 0))
                (local.set $c30 (v128.const i32x4 0 0 0 0))
                (local.set $c31 (v128.const i32x4 0 0 0 0))))
            (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowStrideA))))
            (local.set $a1 (i32.add (local.get $a0) (local.get $rowStrideA)))
            (local.set $a2 (i32.add (local.get $a1) (local.get $rowStrideA)))
            (local.set $a3 (i32.add (local.get $a2) (local.get $rowStrideA)))
            (local.set $from (i32.add (local.get $blocksB) (i32.mul (i32.shr_u (local.get $j) (i32.const 3)) (local.get $blockStride))))
            (local.set $p (local.get $k))
            (block $depthDone
              (loop $depth
                (br_if $depthDone (i32.eqz (local.get $p)))
                (local.set $b0 (v128.load (local.get $from)))
                (local.set $b1 (v128.load offset=16 (local.get $from)))
                (local.set $s (v128.load32_splat (local.get $a0)))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $a0 (i32.add (local.get $a0) (local.get $colStrideA)))
                (local.set $s (v128.load32_splat (local.get $a1)))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $a1 (i32.add (local.get $a1) (local.get $colStrideA)))
                (local.set $s (v128.load32_splat (local.get $a2)))
                (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $a2 (i32.add (local.get $a2) (local.get $colStrideA)))
                (local.set $s (v128.load32_splat (local.get $a3)))
                (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $a3 (i32.add (local.get $a3) (local.get $colStrideA)))
                (local.set $from (i32.add (local.get $from) (local.get $blockRowBytes)))
                (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                (br $depth)))
            (v128.store (local.get $to) (local.get $c00))
            (v128.store offset=16 (local.get $to) (local.get $c01))
            (local.set $to (i32.add (local.get $to) (local.get $rowBytes)))
            (v128.store (local.get $to) (local.get $c10))
            (v128.store offset=16 (local.get $to) (local.get $c11))
            (local.set $to (i32.add (local.get $to) (local.get $rowBytes)))
            (v128.store (local.get $to) (local.get $c20))
            (v128.store offset=16 (local.get $to) (local.get $c21))
            (local.set $to (i32.add (local.get $to) (local.get $rowBytes)))
            (v128.store (local.get $to) (local.get $c30))
            (v128.store offset=16 (local.get $to) (local.get $c31))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows)))
    (call $matmulEdge (local.get $a) (local.get $b) (local.get $out) (i32.const 0) (local.get $rows4)
      (local.get $cols8) (local.get $k) (local.get $n) (local.get $stride) (local.get $rowStrideA)
      (local.get $colStrideA) (local.get $accumulate) (local.get $cols8) (local.get $blocksB)
      (local.get $blockRowBytes) (local.get $blockStride))
    (call $matmulEdge (local.get $a) (local.get $b) (local.get $out) (local.get $rows4) (local.get $m)
      (i32.const 0) (local.get $k) (local.get $n) (local.get $stride) (local.get $rowStrideA)
      (local.get $colStrideA) (local.get $accumulate) (local.get $cols8) (local.get $blocksB)
      (local.get $blockRowBytes) (local.get $blockStride)))

  ;; The elements the blocks leave: rows [rowStart, rowEnd) × columns [colStart, n), one at a time,
  ;; reading B as matmul does (columns below cols8 from the blocks, the rest from B itself).
  (func $matmulEdge (param $a i32) (param $b i32) (param $out i32) (param $rowStart i32) (param $rowEnd i32)
    (param $colStart i32) (param $k i32) (param $n i32) (param $stride i32) (param $rowStrideA i32)
    (param $colStrideA i32) (param $accumulate i32) (param $cols8 i32) (param $blocksB i32)
    (param $blockRowBytes i32) (param $blockStride i32)
    (local $i i32) (local $j i32) (local $p i32) (local $fromA i32) (local $fromB i32) (local $stepB i32)
    (local $to i32) (local $sum f32)
    (local.set $i (local.get $rowStart))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rowEnd)))
        (local.set $j (local.get $colStart))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $to (i32.add (local.get $out)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $stride)) (local.get $j)) (i32.const 2))))
            (local.set $sum (select (f32.load (local.get $to)) (f32.const 0) (local.get $accumulate)))
            (local.set $fromA (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowStrideA))))
            (if (i32.lt_u (local.get $j) (local.get $cols8))
              (then
                (local.set $fromB (i32.add (local.get $blocksB)
                  (i32.add (i32.mul (i32.shr_u (local.get $j) (i32.const 3)) (local.get $blockStride))
                    (i32.shl (i32.and (local.get $j) (i32.const 7)) (i32.const 2)))))
                (local.set $stepB (local.get $blockRowBytes)))
              (else
                (local.set $fromB (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $stepB (i32.shl (local.get $stride) (i32.const 2)))))
            (local.set $p (local.get $k))
            (block $depthDone
              (loop $depth
                (br_if $depthDone (i32.eqz (local.get $p)))
                (local.set $sum (f32.add (local.get $sum)
                  (f32.mul (f32.load (local.get $fromA)) (f32.load (local.get $fromB)))))
                (local.set $fromA (i32.add (local.get $fromA) (local.get $colStrideA)))
                (local.set $fromB (i32.add (local.get $fromB) (local.get $stepB)))
                (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                (br $depth)))
            (f32.store (local.get $to) (local.get $sum))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; dst = srcᵀ for a rows × cols float32 matrix (dst is cols × rows), in 4 × 4 tiles: four rows of
  ;; src loaded, transposed in registers by two rounds of shuffles, stored as four rows of dst.
  ;; The rows and columns past the last full tile are moved one element at a time.
  (func (export "transpose2d") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $rows4 i32) (local $cols4 i32) (local $inRow i32) (local $outRow i32)
    (local $from i32) (local $to i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $inRow (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $outRow (i32.shl (local.get $rows) (i32.const 2)))
    (local.set $rows4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rows4)))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $colLoop
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $cols4)))
            (local.set $from (i32.add (local.get $src)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 2))))
            (local.set $r0 (v128.load (local.get $from)))
            (local.set $from (i32.add (local.get $from) (local.get $inRow)))
            (local.set $r1 (v128.load (local.get $from)))
            (local.set $from (i32.add (local.get $from) (local.get $inRow)))
            (local.set $r2 (v128.load (local.get $from)))
            (local.set $from (i32.add (local.get $from) (local.get $inRow)))
            (local.set $r3 (v128.load (local.get $from)))
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
            (local.set $to (i32.add (local.get $dst)
              (i32.shl (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $i)) (i32.const 2))))
            (v128.store (local.get $to)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (local.set $to (i32.add (local.get $to) (local.get $outRow)))
            (v128.store (local.get $to)
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (local.set $to (i32.add (local.get $to) (local.get $outRow)))
            (v128.store (local.get $to)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (local.set $to (i32.add (local.get $to) (local.get $outRow)))
            (v128.store (local.get $to)
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $colLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rowLoop)))
    (call $transposeEdge (local.get $src) (local.get $dst) (local.get $rows) (local.get $cols)
      (i32.const 0) (local.get $rows4) (local.get $cols4))
    (call $transposeEdge (local.get $src) (local.get $dst) (local.get $rows) (local.get $cols)
      (local.get $rows4) (local.get $rows) (i32.const 0)))

  ;; dst[j][i] = src[i][j] for rows [rowStart, rowEnd) × columns [colStart, cols).
  (func $transposeEdge (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (param $rowStart i32) (param $rowEnd i32) (param $colStart i32)
    (local $i i32) (local $j i32)
    (local.set $i (local.get $rowStart))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rowEnd)))
        (local.set $j (local.get $colStart))
        (block $colsDone
          (loop $colLoop
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $cols)))
            (f32.store
              (i32.add (local.get $dst)
                (i32.shl (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $i)) (i32.const 2)))
              (f32.load (i32.add (local.get $src)
                (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $colLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rowLoop))))

  ;; dst[o][i] = Σ_r (src[o][r][i] / divisor) for a float32 [outer, reduced, inner] array: the sum
  ;; over a middle axis, each term divided in float32 (divisor 1: the sum, the reduced size: the
  ;; mean), added in order in float64 and rounded to float32 once — tfjs-backend-cpu's Sum and Mean
  ;; bit for bit. Eight columns at a time in four f64x2 accumulators.
  (func (export "sumColumns") (param $src i32) (param $dst i32) (param $outer i32) (param $reduced i32)
    (param $inner i32) (param $divisor f32)
    (local $o i32) (local $i i32) (local $r i32) (local $from i32) (local $base i32) (local $to i32)
    (local $rowBytes i32) (local $inner8 i32) (local $v v128)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $sum f64)
    (local $split v128)
    (local.set $split (f32x4.splat (local.get $divisor)))
    (local.set $rowBytes (i32.shl (local.get $inner) (i32.const 2)))
    (local.set $inner8 (i32.and (local.get $inner) (i32.const -8)))
    (block $outerDone
      (loop $outerLoop
        (br_if $outerDone (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $base (i32.add (local.get $src)
          (i32.mul (i32.mul (local.get $o) (local.get $reduced)) (local.get $rowBytes))))
        (local.set $to (i32.add (local.get $dst) (i32.mul (local.get $o) (local.get $rowBytes))))
        (local.set $i (i32.const 0))
        (block $blocksDone
          (loop $blocks
            (br_if $blocksDone (i32.ge_u (local.get $i) (local.get $inner8)))
            (local.set $acc0 (v128.const i64x2 0 0))
            (local.set $acc1 (v128.const i64x2 0 0))
            (local.set $acc2 (v128.const i64x2 0 0))
            (local.set $acc3 (v128.const i64x2 0 0))
            (local.set $from (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $r (local.get $reduced))
            (block $rowsDone
              (loop $rows
                (br_if $rowsDone (i32.eqz (local.get $r)))
                (local.set $v (f32x4.div (v128.load (local.get $from)) (local.get $split)))
                (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.promote_low_f32x4 (local.get $v))))
                (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                (local.set $v (f32x4.div (v128.load offset=16 (local.get $from)) (local.get $split)))
                (local.set $acc2 (f64x2.add (local.get $acc2) (f64x2.promote_low_f32x4 (local.get $v))))
                (local.set $acc3 (f64x2.add (local.get $acc3) (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                (local.set $from (i32.add (local.get $from) (local.get $rowBytes)))
                (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                (br $rows)))
            (local.set $from (i32.add (local.get $to) (i32.shl (local.get $i) (i32.const 2))))
            (f32.store (local.get $from) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $acc0))))
            (f32.store offset=4 (local.get $from) (f32.demote_f64 (f64x2.extract_lane 1 (local.get $acc0))))
            (f32.store offset=8 (local.get $from) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $acc1))))
            (f32.store offset=12 (local.get $from) (f32.demote_f64 (f64x2.extract_lane 1 (local.get $acc1))))
            (f32.store offset=16 (local.get $from) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $acc2))))
            (f32.store offset=20 (local.get $from) (f32.demote_f64 (f64x2.extract_lane 1 (local.get $acc2))))
            (f32.store offset=24 (local.get $from) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $acc3))))
            (f32.store offset=28 (local.get $from) (f32.demote_f64 (f64x2.extract_lane 1 (local.get $acc3))))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (br $blocks)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $i) (local.get $inner)))
            (local.set $sum (f64.const 0))
            (local.set $from (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $r (local.get $reduced))
            (block $rowsDone
              (loop $rows
                (br_if $rowsDone (i32.eqz (local.get $r)))
                (local.set $sum (f64.add (local.get $sum)
                  (f64.promote_f32 (f32.div (f32.load (local.get $from)) (local.get $divisor)))))
                (local.set $from (i32.add (local.get $from) (local.get $rowBytes)))
                (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                (br $rows)))
            (f32.store (i32.add (local.get $to) (i32.shl (local.get $i) (i32.const 2)))
              (f32.demote_f64 (local.get $sum)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tail)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $outerLoop))))
)
