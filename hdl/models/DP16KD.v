// Behavioural model of the Lattice ECP5 DP16KD for the configuration hdl/fft.py's
// registered_ram and registered_rom instantiate: 512 x 36 pseudo dual port (DATA_WIDTH_A =
// DATA_WIDTH_B = 36; port A writes, ADA0-3 being the byte write enables and ADA5-13 the
// address; port B reads at ADB5-13; data bits 0-17 on DIA/DOA, 18-35 on DIB/DOB), the
// read latched at a CEB edge and passed through the output register (REGMODE "OUTREG")
// at an OCEB edge (Lattice memory usage guide, FPGA-TN-02204).  Initial contents from
// INITVAL_00..3F as yosys' brams_map_16kd.v lays them out: 1024 18-bit units, unit 2a the
// low half of word a and 2a+1 its high half, 16 units per row in 20-bit slots.  A read
// of the address written at the same edge returns the stored word inverted (undefined
// on the device); any other configuration stops the simulation.  For Verilator only.
module DP16KD #(
    parameter DATA_WIDTH_A = 18, parameter DATA_WIDTH_B = 18,
    parameter REGMODE_A = "NOREG", parameter REGMODE_B = "NOREG",
    parameter RESETMODE = "SYNC", parameter ASYNC_RESET_RELEASE = "SYNC",
    parameter CSDECODE_A = "0b000", parameter CSDECODE_B = "0b000",
    parameter WRITEMODE_A = "NORMAL", parameter WRITEMODE_B = "NORMAL",
    parameter GSR = "ENABLED",
    parameter [319:0] INITVAL_00 = 320'h0,
    parameter [319:0] INITVAL_01 = 320'h0,
    parameter [319:0] INITVAL_02 = 320'h0,
    parameter [319:0] INITVAL_03 = 320'h0,
    parameter [319:0] INITVAL_04 = 320'h0,
    parameter [319:0] INITVAL_05 = 320'h0,
    parameter [319:0] INITVAL_06 = 320'h0,
    parameter [319:0] INITVAL_07 = 320'h0,
    parameter [319:0] INITVAL_08 = 320'h0,
    parameter [319:0] INITVAL_09 = 320'h0,
    parameter [319:0] INITVAL_0A = 320'h0,
    parameter [319:0] INITVAL_0B = 320'h0,
    parameter [319:0] INITVAL_0C = 320'h0,
    parameter [319:0] INITVAL_0D = 320'h0,
    parameter [319:0] INITVAL_0E = 320'h0,
    parameter [319:0] INITVAL_0F = 320'h0,
    parameter [319:0] INITVAL_10 = 320'h0,
    parameter [319:0] INITVAL_11 = 320'h0,
    parameter [319:0] INITVAL_12 = 320'h0,
    parameter [319:0] INITVAL_13 = 320'h0,
    parameter [319:0] INITVAL_14 = 320'h0,
    parameter [319:0] INITVAL_15 = 320'h0,
    parameter [319:0] INITVAL_16 = 320'h0,
    parameter [319:0] INITVAL_17 = 320'h0,
    parameter [319:0] INITVAL_18 = 320'h0,
    parameter [319:0] INITVAL_19 = 320'h0,
    parameter [319:0] INITVAL_1A = 320'h0,
    parameter [319:0] INITVAL_1B = 320'h0,
    parameter [319:0] INITVAL_1C = 320'h0,
    parameter [319:0] INITVAL_1D = 320'h0,
    parameter [319:0] INITVAL_1E = 320'h0,
    parameter [319:0] INITVAL_1F = 320'h0,
    parameter [319:0] INITVAL_20 = 320'h0,
    parameter [319:0] INITVAL_21 = 320'h0,
    parameter [319:0] INITVAL_22 = 320'h0,
    parameter [319:0] INITVAL_23 = 320'h0,
    parameter [319:0] INITVAL_24 = 320'h0,
    parameter [319:0] INITVAL_25 = 320'h0,
    parameter [319:0] INITVAL_26 = 320'h0,
    parameter [319:0] INITVAL_27 = 320'h0,
    parameter [319:0] INITVAL_28 = 320'h0,
    parameter [319:0] INITVAL_29 = 320'h0,
    parameter [319:0] INITVAL_2A = 320'h0,
    parameter [319:0] INITVAL_2B = 320'h0,
    parameter [319:0] INITVAL_2C = 320'h0,
    parameter [319:0] INITVAL_2D = 320'h0,
    parameter [319:0] INITVAL_2E = 320'h0,
    parameter [319:0] INITVAL_2F = 320'h0,
    parameter [319:0] INITVAL_30 = 320'h0,
    parameter [319:0] INITVAL_31 = 320'h0,
    parameter [319:0] INITVAL_32 = 320'h0,
    parameter [319:0] INITVAL_33 = 320'h0,
    parameter [319:0] INITVAL_34 = 320'h0,
    parameter [319:0] INITVAL_35 = 320'h0,
    parameter [319:0] INITVAL_36 = 320'h0,
    parameter [319:0] INITVAL_37 = 320'h0,
    parameter [319:0] INITVAL_38 = 320'h0,
    parameter [319:0] INITVAL_39 = 320'h0,
    parameter [319:0] INITVAL_3A = 320'h0,
    parameter [319:0] INITVAL_3B = 320'h0,
    parameter [319:0] INITVAL_3C = 320'h0,
    parameter [319:0] INITVAL_3D = 320'h0,
    parameter [319:0] INITVAL_3E = 320'h0,
    parameter [319:0] INITVAL_3F = 320'h0
) (
    input DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0, input DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
    input ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0, input ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
    input CLKA, CEA, OCEA, WEA, RSTA, CSA2, CSA1, CSA0,
    input CLKB, CEB, OCEB, WEB, RSTB, CSB2, CSB1, CSB0,
    output DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0, output DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
  wire [35:0] di = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0, DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
  wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
  wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};
  reg [35:0] mem [0:511];
  reg [35:0] latch, oreg;
  task init_row(input [319:0] v, input integer row);
    integer i, u;
    for (i = 0; i < 16; i = i + 1) begin
      u = 16 * row + i;
      if (u % 2 == 1) mem[u / 2][35:18] = v[20 * i +: 18];
      else mem[u / 2][17:0] = v[20 * i +: 18];
    end
  endtask
  initial begin
    init_row(INITVAL_00, 0);
    init_row(INITVAL_01, 1);
    init_row(INITVAL_02, 2);
    init_row(INITVAL_03, 3);
    init_row(INITVAL_04, 4);
    init_row(INITVAL_05, 5);
    init_row(INITVAL_06, 6);
    init_row(INITVAL_07, 7);
    init_row(INITVAL_08, 8);
    init_row(INITVAL_09, 9);
    init_row(INITVAL_0A, 10);
    init_row(INITVAL_0B, 11);
    init_row(INITVAL_0C, 12);
    init_row(INITVAL_0D, 13);
    init_row(INITVAL_0E, 14);
    init_row(INITVAL_0F, 15);
    init_row(INITVAL_10, 16);
    init_row(INITVAL_11, 17);
    init_row(INITVAL_12, 18);
    init_row(INITVAL_13, 19);
    init_row(INITVAL_14, 20);
    init_row(INITVAL_15, 21);
    init_row(INITVAL_16, 22);
    init_row(INITVAL_17, 23);
    init_row(INITVAL_18, 24);
    init_row(INITVAL_19, 25);
    init_row(INITVAL_1A, 26);
    init_row(INITVAL_1B, 27);
    init_row(INITVAL_1C, 28);
    init_row(INITVAL_1D, 29);
    init_row(INITVAL_1E, 30);
    init_row(INITVAL_1F, 31);
    init_row(INITVAL_20, 32);
    init_row(INITVAL_21, 33);
    init_row(INITVAL_22, 34);
    init_row(INITVAL_23, 35);
    init_row(INITVAL_24, 36);
    init_row(INITVAL_25, 37);
    init_row(INITVAL_26, 38);
    init_row(INITVAL_27, 39);
    init_row(INITVAL_28, 40);
    init_row(INITVAL_29, 41);
    init_row(INITVAL_2A, 42);
    init_row(INITVAL_2B, 43);
    init_row(INITVAL_2C, 44);
    init_row(INITVAL_2D, 45);
    init_row(INITVAL_2E, 46);
    init_row(INITVAL_2F, 47);
    init_row(INITVAL_30, 48);
    init_row(INITVAL_31, 49);
    init_row(INITVAL_32, 50);
    init_row(INITVAL_33, 51);
    init_row(INITVAL_34, 52);
    init_row(INITVAL_35, 53);
    init_row(INITVAL_36, 54);
    init_row(INITVAL_37, 55);
    init_row(INITVAL_38, 56);
    init_row(INITVAL_39, 57);
    init_row(INITVAL_3A, 58);
    init_row(INITVAL_3B, 59);
    init_row(INITVAL_3C, 60);
    init_row(INITVAL_3D, 61);
    init_row(INITVAL_3E, 62);
    init_row(INITVAL_3F, 63);
  end
  initial begin
    if (DATA_WIDTH_A != 36 || DATA_WIDTH_B != 36 || REGMODE_A != "OUTREG"
        || REGMODE_B != "OUTREG" || RESETMODE != "SYNC") begin
      $display("DP16KD model: unsupported configuration");
      $finish;
    end
  end
  always @(posedge CLKA) begin
    if (CEA && WEA && ada[3:0] != 4'b0000 && ada[3:0] != 4'b1111) begin
      $display("DP16KD model: partial byte enables unsupported");
      $stop;
    end
    if (CEA && WEA && ada[3:0] == 4'b1111) mem[ada[13:5]] <= di;
  end
  always @(posedge CLKB) begin
    if (RSTB || WEB || RSTA) begin
      $display("DP16KD model: port B write or reset unsupported");
      $stop;
    end
    // a read of the address written at the same edge is undefined: model it as the
    // stored word inverted, so that a design using such a read fails bit-exactness
    if (CEB) latch <= (CEA && WEA && ada[3:0] != 4'b0000 && ada[13:5] == adb[13:5])
                      ? ~mem[adb[13:5]] : mem[adb[13:5]];
    if (OCEB) oreg <= latch;
  end
  assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0, DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = oreg;
endmodule
