namespace VethXdp.Verifier.Log;

// The messages of do_check and the checks it calls (kernel/bpf/verifier.c, Linux 6.18), in the kernel's words.
internal static partial class Msg
{
    // --- do_check / registers -------------------------------------------------------------------------------
    public const string TooLarge = "BPF program is too large. Processed {0} insn";
    public const string TooComplexJumps = "The sequence of {0} jumps is too complex.";
    public const string RegInvalid = "R{0} is invalid";
    public const string RegNotReadable = "R{0} !read_ok";
    public const string FramePointerReadOnly = "frame pointer is read only";
    public const string UnknownOpcode = "unknown opcode {0:x2}";
    public const string InvalidInsnClass = "unknown insn class {0}";

    // --- check_alu_op ---------------------------------------------------------------------------------------
    public const string AluReservedFields = "BPF_ALU uses reserved fields";
    public const string NegReservedFields = "BPF_NEG uses reserved fields";
    public const string EndReservedFields = "BPF_END uses reserved fields";
    public const string MovReservedFields = "BPF_MOV uses reserved fields";
    public const string InvalidAluOpcode = "invalid BPF_ALU opcode {0:x}";
    public const string DivByZero = "div by zero";
    public const string InvalidShift = "invalid shift {0}";
    public const string PointerArithmeticProhibited = "R{0} pointer arithmetic prohibited";
    public const string PartialCopyOfPointer = "R{0} partial copy of pointer";
    public const string SignExtensionOfPointer = "R{0} sign-extension part of pointer";
    public const string PointerOpPointer = "R{0} pointer {1} pointer prohibited";
    public const string Pointer32Arithmetic = "R{0} 32-bit pointer arithmetic prohibited";
    public const string PointerArithmeticOnNull = "R{0} pointer arithmetic on {1} prohibited, null-check it first";
    public const string PointerArithmeticOn = "R{0} pointer arithmetic on {1} prohibited";
    public const string SubtractPointerFromScalar = "R{0} tried to subtract pointer from scalar";
    public const string SubtractionFromStack = "R{0} subtraction from stack pointer prohibited";
    public const string BitwiseOnPointer = "R{0} bitwise operator {1} on pointer prohibited";
    public const string PointerArithmeticWithOp = "R{0} pointer arithmetic with {1} operator prohibited";
    public const string MathWithConstNotAllowed = "math between {0} pointer and {1} is not allowed";
    public const string PointerOffsetNotAllowed = "{0} pointer offset {1} is not allowed";
    public const string MathUnboundedMin = "math between {0} pointer and register with unbounded min value is not allowed";
    public const string ValueOutOfBounds = "value {0} makes {1} pointer be out of bounds";

    // --- memory ---------------------------------------------------------------------------------------------
    public const string LdxReservedFields = "BPF_LDX uses reserved fields";
    public const string StxReservedFields = "BPF_STX uses reserved fields";
    public const string StReservedFields = "BPF_ST uses reserved fields";
    public const string InvalidMemAccess = "R{0} invalid mem access '{1}'";
    public const string CannotWriteInto = "R{0} cannot write into {1}";
    public const string CannotWriteIntoPacket = "cannot write into packet";
    public const string InvalidContextAccess = "invalid bpf_context access off={0} size={1}";
    public const string NegativeOffsetPtr = "negative offset {0} ptr R{1} off={2} disallowed";
    public const string ModifiedPtr = "dereference of modified {0} ptr R{1} off={2} disallowed";
    public const string VariablePtrAccess = "variable {0} access var_off={1} disallowed";
    public const string MinValueNegative = "R{0} min value is negative, either use unsigned index or do a if (index >=0) check.";
    public const string MinValueOutside = "R{0} min value is outside of the allowed memory range";
    public const string MaxValueOutside = "R{0} max value is outside of the allowed memory range";
    public const string UnboundedMemAccess = "R{0} unbounded memory access, make sure to bounds check any such access";
    public const string MapKeyAccess = "invalid access to map key, key_size={0} off={1} size={2}";
    public const string MapValueAccess = "invalid access to map value, value_size={0} off={1} size={2}";
    public const string PacketAccess = "invalid access to packet, off={0} size={1}, R{2}(id={3},off={4},r={5})";
    public const string MemoryAccess = "invalid access to memory, mem_size={0} off={1} size={2}";
    public const string OutsidePacket = "R{0} offset is outside of the packet";
    public const string Misaligned = "misaligned {0}access off {1}+{2}+{3} size {4}";
    public const string MisalignedPacket = "misaligned packet access off {0}+{1}+{2}+{3} size {4}";
    public const string InvalidStack = "invalid{0} stack R{1} off={2} size={3}";
    public const string InvalidVarStack = "invalid variable-offset{0} stack R{1} var_off={2} off={3} size={4}";
    public const string InvalidUnboundedVarStack = "invalid unbounded variable-offset{0} stack R{1}";
    public const string InvalidReadFromStack = "invalid read from stack off {0}+{1} size {2}";
    public const string InvalidSizeOfFill = "invalid size of register fill";
    public const string InvalidSizeOfSpill = "invalid size of register spill";
    public const string SpillIntoCaller = "cannot spill pointers to stack into stack frame of the caller";
    public const string SameInsnDifferentPointers = "same insn cannot be used with different pointers";
    public const string MapWriteForbidden = "write into map forbidden, value_size={0} off={1} size={2}";
    public const string MapReadForbidden = "read from map forbidden, value_size={0} off={1} size={2}";
    public const string SpinLockDirect = "bpf_spin_lock cannot be accessed directly by load/store";
    public const string AtomicInvalidOpcode = "BPF_ATOMIC uses invalid atomic opcode {0:x2}";
    public const string AtomicInvalidSize = "invalid atomic operand size";
    public const string AtomicStoresInto = "BPF_ATOMIC stores into R{0} {1} is not allowed";
    public const string AtomicLoadsFrom = "BPF_ATOMIC loads from R{0} {1} is not allowed";
    public const string LdImm64Reserved = "invalid BPF_LD_IMM insn";
    public const string LdImm64Uses = "BPF_LD_[ABS|IND] uses reserved fields";
    public const string LdAbsNotAllowed = "BPF_LD_[ABS|IND] instructions not allowed for this program type";
    public const string LdAbsCtx = "at the time of BPF_LD_ABS|IND R6 != pointer to skb";
    public const string LdAbsInCallback = "BPF_LD_[ABS|IND] instructions cannot be mixed with bpf-to-bpf calls";

    // --- jumps ----------------------------------------------------------------------------------------------
    public const string JaReservedFields = "BPF_JA uses reserved fields";
    public const string JmpReservedFields = "BPF_JMP/JMP32 uses reserved fields";
    public const string InvalidJmpOpcode = "invalid BPF_JMP/JMP32 opcode {0:x}";
    public const string PointerComparison = "R{0} pointer comparison prohibited";
    public const string CallReservedFields = "BPF_CALL uses reserved fields";
    public const string ExitReservedFields = "BPF_EXIT uses reserved fields";
    public const string MayGotoUnsupported = "may_goto is not supported by this verifier";

    // --- calls and exit -------------------------------------------------------------------------------------
    public const string UnreleasedReference = "Unreleased reference id={0} alloc_insn={1}";
    public const string WouldLeak = "{0} would lead to reference leak";
    public const string CannotBeUsedInLock = "{0} cannot be used inside bpf_spin_lock-ed region";
    public const string FunctionCallsInLock = "function calls are not allowed while holding a lock";
    public const string ExitInMainProg = "BPF_EXIT instruction in main prog";
    public const string TailCallPrefix = "tail_call";
    public const string LeaksAddrAsReturn = "R{0} leaks addr as return value";
    public const string SubprogExitNotScalar = "At subprogram exit the register R0 is not a scalar value ({0})";
    public const string CallbackRetRange = "At callback return the register R0 has {0}";
    public const string RegTypeExpected = "R{0} type={1} expected={2}";
    public const string ExpectedPointerToFunc = "R{0} type={1} expected=func";
    public const string KfuncNotSupported = "calling kernel function {0} is not allowed";
    public const string KfuncUnknown = "kernel function {0} is not supported by this verifier";
}
